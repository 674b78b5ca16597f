"""govarchive: the command line over the archive library, the extractor and the replica."""
from __future__ import annotations

import json
import sys

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Crawl, archive and search Chinese government portals (see README.md)."""


@main.command()
@click.option("--port", default=8765, show_default=True, help="Port on 127.0.0.1.")
@click.option("--epoch", default=1, show_default=True, type=click.IntRange(1, 2), help="State of the sites to serve.")
@click.option("--scale", default=0, help="Generate documents up to this many pages (benchmarks).")
@click.option("--faults", type=click.File("r"), help="JSON list of fault rules (see seeds/replica/server.py).")
def replica(port: int, epoch: int, scale: int, faults) -> None:
    """Serve the offline replica of every portal on 127.0.0.1."""
    from seeds.replica.server import ReplicaServer
    rules = json.load(faults) if faults else None
    srv = ReplicaServer(port=port, epoch=epoch, scale=scale, faults=rules)
    click.echo(f"govarchive replica: epoch {epoch}, {srv.state.describe()['pages']} pages, "
               f"listening on {srv.url} (Ctrl-C stops)", err=True)
    sys.stderr.flush()
    srv.serve_until_signal()
    click.echo("govarchive replica: stopped", err=True)


if __name__ == "__main__":
    main()
