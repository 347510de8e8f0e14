from analysis.cli import run

run()
