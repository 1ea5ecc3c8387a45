# A manual check with the real kubectl (README.md): serves the discovery, OpenAPI and sample
# Table documents that `discovery_test` dumps into $CKDUMP, in front of the recording probe
# server of shared/reference (which answers everything else: CRUD, watch, logs).
#   CK_DISCOVERY_DUMP_DIR=/tmp/ckdump build/tests/discovery_test --gtest_filter='*Dump*'
#   python3 <shared>/reference/kubectl_probe_server.py --setup /tmp/kp
#   CKDUMP=/tmp/ckdump python3 apiserver/discovery/serve_dump.py --dir /tmp/kp --port 16443 &
#   KUBECONFIG=/tmp/kp/kubeconfig kubectl --cache-dir /tmp/kp/c$RANDOM explain pod.spec.containers
# Arguments are the probe server's. Listens on 127.0.0.1 only.
import os, sys, importlib.util
HERE = os.path.dirname(os.path.abspath(__file__))
DUMP = os.environ.get("CKDUMP", "/tmp/ckdump")
PROBE = os.environ.get("CK_PROBE_SERVER",
                       os.path.join(HERE, "..", "..", "..", "shared", "reference", "kubectl_probe_server.py"))
spec = importlib.util.spec_from_file_location("probe", PROBE)
probe = importlib.util.module_from_spec(spec)
spec.loader.exec_module(probe)
orig_route = probe.Handler.route

def read(rel):
    with open(os.path.join(DUMP, rel), "rb") as f:
        return f.read()

def send_raw(self, code, body, ctype, headers=()):
    self.send_response(code)
    self.send_header("Content-Type", ctype)
    for k, v in headers:
        self.send_header(k, v)
    self.send_header("Content-Length", str(len(body)))
    self.end_headers()
    self.wfile.write(body)
    self.record(code, ctype, "ck")

def route(self):
    p = self.url.path.rstrip("/") or "/"
    accept = self.headers.get("Accept", "")
    if p == "/version":
        return send_raw(self, 200, read("version"), "application/json")
    if p in ("/api", "/apis"):
        name = p[1:]
        fmt = None
        for a in accept.split(","):
            a = a.replace(" ", "")
            if "as=APIGroupDiscoveryList" in a:
                if ";v=v2;" in a + ";": fmt = "v2"; break
                if ";v=v2beta1;" in a + ";": fmt = "v2beta1"; break
            elif a.startswith("application/json") or a.startswith("*/*"):
                break
        if fmt:
            return send_raw(self, 200, read(name + "." + fmt), "application/json;g=apidiscovery.k8s.io;v=%s;as=APIGroupDiscoveryList" % fmt)
        return send_raw(self, 200, read(name), "application/json")
    if p == "/api/v1" or (p.startswith("/apis/") and p.count("/") == 3):
        rel = "legacy" + p
        if os.path.exists(os.path.join(DUMP, rel)):
            return send_raw(self, 200, read(rel), "application/json")
    if p == "/openapi/v3":
        return send_raw(self, 200, read("openapi/v3.root"), "application/json")
    if p.startswith("/openapi/v3/"):
        rel = "openapi/v3/" + p[len("/openapi/v3/"):]
        if os.path.exists(os.path.join(DUMP, rel)):
            return send_raw(self, 200, read(rel), "application/json")
    if (p == "/api/v1/pods" or (p.startswith("/api/v1/namespaces/") and p.endswith("/pods"))) and "as=Table" in accept:
        return send_raw(self, 200, read("tables/pods"), "application/json")
    if p.startswith("/openapi"):
        return self.send_status(404, "NotFound", "the server could not find the requested resource")
    return orig_route(self)

probe.Handler.route = route
sys.argv[0] = "kubectl_probe_server.py"
probe.main()
