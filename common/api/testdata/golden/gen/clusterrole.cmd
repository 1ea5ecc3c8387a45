kubectl create clusterrole node-reader --verb=get,list --resource=nodes --dry-run=client -o json
