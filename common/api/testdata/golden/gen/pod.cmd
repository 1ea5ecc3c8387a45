kubectl run web --image=nginx:1.27 --port=80 --labels=app=web,tier=front --env=MODE=prod --restart=Never --dry-run=client -o json
