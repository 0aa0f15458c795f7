"""``powertrace generate``: write the synthetic world into the lake's landing/ and truth/."""
from __future__ import annotations

from pathlib import Path

import click

from orchestration.settings import DEFAULT_SCALE, DEFAULT_SEED


@click.command()
@click.option("--scale", type=float, default=DEFAULT_SCALE, show_default=True,
              help="Scale factor: SF 1 = 1,000,000 registered persons (about 17 M source rows).")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True,
              help="World seed: the same seed writes the same bytes.")
@click.option("--force", is_flag=True, help="Replace the world already in landing/ and truth/.")
@click.option("--no-progress", is_flag=True, help="No progress bar on stderr.")
@click.pass_context
def generate(ctx: click.Context, scale: float, seed: int, force: bool, no_progress: bool) -> None:
    """Write the synthetic world's deliveries into landing/ and its truth into truth/."""
    from orchestration.world.generate import clear_world
    from orchestration.world.generate import generate as build

    lake = Path(ctx.obj["lake"])
    if scale <= 0:
        raise click.BadParameter("must be positive", param_hint="--scale")
    landing = lake / "landing"
    if landing.is_dir() and any(landing.iterdir()):
        if not force:
            raise click.ClickException(
                f"{landing} already holds deliveries; use --force to replace them with a new world "
                f"(this deletes {landing} and {lake / 'truth'}), or choose another --lake")
    clear_world(lake)  # landing/ is empty here, or --force: the old world's truth goes with it
    summary = build(lake, scale, seed, progress=not no_progress)
    for line in summary.lines():
        click.echo(line)
