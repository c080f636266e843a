"""One fake host per cloud: what each cloud's runtime does around one function call, written from
the cloud's documentation and its own libraries' sources, sharing no code with the adapters.

- `aws`: the Lambda runtime (awslambdaric's context, the runtime's environment, a failed
  invocation's error payload);
- `azure`: the Functions host and the Python worker (TypedData into Datums, azure-functions' own
  converters, the ``context`` argument, the InvocationResponse);
- `gcp`: functions-framework's own Flask app serving a polyfn app (``create_app``).

The conformance drivers (targets/), ``polyfn invoke`` (each adapter's `_samples.invoke`), the
tests and the benchmarks all use these modules: there is no other emulation of a cloud's host.
"""
