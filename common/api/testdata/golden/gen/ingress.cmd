kubectl create ingress shop --class=nginx --rule=shop.example.com/=web:80 --rule=shop.example.com/api*=api:8080,tls=shop-tls --annotation=team=shop --dry-run=client -o json
