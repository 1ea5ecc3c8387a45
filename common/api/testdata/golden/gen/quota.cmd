kubectl create quota compute --hard=cpu=1,memory=1G,pods=2,requests.storage=10Gi --scopes=NotTerminating --dry-run=client -o json
