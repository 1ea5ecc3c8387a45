kubectl set serviceaccount --local -f pod-values.yaml default
