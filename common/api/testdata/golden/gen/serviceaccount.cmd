kubectl create serviceaccount deployer --dry-run=client -o json
