kubectl auth can-i get pods --subresource=log -n shop
