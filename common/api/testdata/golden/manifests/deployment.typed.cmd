kubectl set serviceaccount --local -f deployment.yaml web
