"""One catch-all route that records the path its handler sees, for tests that tie `polyfn events`
samples to each adapter's reading of the request path."""

from polyfn import App

app = App("paths")
SEEN: list[tuple[str, str, dict[str, str]]] = []


@app.http("/p/{rest+}", methods=["GET"])
def show_path(req, ctx):
    SEEN.append((ctx.provider, req.path, dict(req.path_params)))
    return {"path": req.path}


@app.http("/boom", methods=["GET"])
def boom(req, ctx):
    raise RuntimeError("boom")


@app.http("/refuse/{status}", methods=["GET"])
def refuse(req, ctx):
    from polyfn import HTTPError

    raise HTTPError(int(req.path_params["status"]), "refused")


@app.http("/bytes", methods=["GET"])
def bytes_out(req, ctx):
    return bytes(range(256))
