kubectl auth can-i create deployments.apps --namespace=shop
