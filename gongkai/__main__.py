from gongkai.flows.cli import app

app(prog_name="gongkai")
