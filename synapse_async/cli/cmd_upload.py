"""Placeholder."""
import click


@click.command()
def upload() -> None:
    """Upload."""
