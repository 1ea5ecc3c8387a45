kubectl create clusterrole health --verb=get --non-resource-url=/healthz --non-resource-url=/readyz --dry-run=client -o json
