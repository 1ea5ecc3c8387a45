kubectl create clusterrolebinding ops --clusterrole=node-reader --group=ops --dry-run=client -o json
