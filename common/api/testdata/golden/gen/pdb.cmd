kubectl create poddisruptionbudget web --selector=app=web --min-available=50% --dry-run=client -o json
