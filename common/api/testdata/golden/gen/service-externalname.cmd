kubectl create service externalname db --external-name=db.example.com --dry-run=client -o json
