kubectl set serviceaccount --local -f statefulset.yaml db
