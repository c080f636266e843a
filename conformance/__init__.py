"""polyfn's conformance suite: neutral cases, per-target drivers, the runner and its report.

`polyfn conformance` runs every case on every target and prints the case x target matrix.
Drivers render a neutral case into a cloud's native input, call the adapter's public entry point
and read the native output back; they share no code with the adapters they test.
"""
