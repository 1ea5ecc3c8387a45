kubectl create secret docker-registry regcred --docker-server=registry.example.com --docker-username=ci --docker-password=pw --docker-email=ci@example.com --dry-run=client -o json
