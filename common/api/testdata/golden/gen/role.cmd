kubectl create role pod-reader --verb=get,list,watch --resource=pods,pods/log --dry-run=client -o json
