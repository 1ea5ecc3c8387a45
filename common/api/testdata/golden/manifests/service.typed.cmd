kubectl set selector --local -f service.yaml app.kubernetes.io/name=web
