from meshlint.cli import run

run()
