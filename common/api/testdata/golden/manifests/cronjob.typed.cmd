kubectl set serviceaccount --local -f cronjob.yaml backup
