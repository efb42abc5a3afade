"""`flask quality`: the configured scorer under the active policy, on the project's own held-out
sets: ordinary comments published, harm kept out, OLID ranking, identity bias per term."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext


def _bands(policy):
    from moderation.scoring import BASE_LABELS
    from moderation.scoring.quality import Bands

    return Bands({label: (float(rule["approve"]), float(rule["reject"]))
                  for label, rule in policy.thresholds.items()
                  if label in BASE_LABELS and rule.get("enabled", True)})


def _pct(value) -> str:
    return "n/a" if value is None else f"{value:.1%}"


@click.command("quality")
@with_appcontext
@click.option("--sets", "sets_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder with benign_news_comments.tsv, harm_devset*.tsv and the identity "
                   "templates (default: tests/data of this checkout).")
@click.option("--olid", type=click.Path(dir_okay=False, path_type=Path),
              help="OLID's training file (its held-out test fifth is scored); default "
                   "../shared/data/olid/olid-training-v1.0.tsv, skipped when absent.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def quality(sets_dir: Path | None, olid: Path | None, as_json: bool) -> None:
    """Measure the configured scorer on data nobody fitted it to, under the active policy:
    the share of ordinary news comments not approved, harm kept out of the approve band per
    kind, ROC-AUC of risk on OLID's held-out tweets, and identity bias per term (subgroup,
    BPSN and BNSP AUC, Borkan et al. 2019)."""
    from moderation.scoring import ScorerError
    from moderation.scoring import quality as measure
    from moderation.services import policy as policies
    from moderation.services.scorer import scorer_choice

    sets_dir = sets_dir or measure.SETS
    olid = olid or measure.OLID
    if not (sets_dir / "benign_news_comments.tsv").is_file():
        raise click.ClickException(f"{sets_dir} has no benign_news_comments.tsv; pass --sets.")
    policy = policies.active_or_defaults(
        lambda: click.echo("no database yet: measuring with the default thresholds", err=True))
    bands = _bands(policy)
    choice = scorer_choice()
    click.echo(f"scorer: {choice.scorer.identity.label} ({choice.reason})", err=True)
    try:
        choice.scorer.load()
        report = _measure(choice.scorer.score, bands, sets_dir, olid)
    except ScorerError as error:
        raise click.ClickException(str(error)) from None
    except KeyError as error:
        raise click.ClickException(f"A set in {sets_dir} lacks the column {error}; see "
                                   "docs/scoring.md for each file's columns.") from None
    except (UnicodeDecodeError, ValueError, OSError) as error:
        raise click.ClickException(f"A set in {sets_dir} could not be read: {error}") from None
    report["scorer"] = choice.scorer.identity.label
    report["policy_version"] = policy.version
    if as_json:
        click.echo(json.dumps(report))
    else:
        _print(report)


def _measure(score, bands, sets_dir: Path, olid: Path) -> dict:
    from moderation.scoring import quality as measure

    def step(name):
        click.echo(f"scoring {name} …", err=True)

    report: dict = {}
    step("ordinary comments")
    report["benign"] = measure.benign(score, bands, sets_dir / "benign_news_comments.tsv"
                                      ).figures
    report["devsets"] = {}
    for path in sorted(sets_dir.glob("harm_devset*.tsv")):
        step(path.name)
        report["devsets"][path.name] = measure.devset(score, bands, path).figures
    step("identity templates")
    summary, terms = measure.identity(score, bands, sets_dir)
    report["identity"] = {**summary.figures, "per_term": [vars(t) for t in terms]}
    if olid.is_file():
        step("OLID's held-out tweets")
        report["olid"] = measure.olid_test(score, bands, olid).figures
    else:
        report["olid"] = None
        click.echo(f"{olid} is absent: no OLID figures", err=True)
    return report


def _print(report: dict) -> None:
    out = sys.stdout.write
    benign = report["benign"]
    out(f"scorer {report['scorer']}, policy v{report['policy_version']}\n\n")
    out(f"Ordinary news comments: {_pct(benign['not_approved'])} not approved "
        f"({_pct(benign['held'])} held); over 80 words {_pct(benign['long_not_approved'])}, "
        f"shorter {_pct(benign['short_not_approved'])}\n")
    for name, figures in report["devsets"].items():
        out(f"{name}: harm kept out {_pct(figures['harm_kept_out'])} (held "
            f"{_pct(figures['harm_held'])}), look-alikes not approved "
            f"{_pct(figures['benign_not_approved'])}, risk ROC-AUC {figures['risk_auc']:.3f}\n")
        for category, share in figures["by_category"].items():
            label, kind = category.split(":", 1)
            what = "kept out" if label == "harmful" else "not approved"
            out(f"    {kind:<22} {what:<13} {_pct(share)}\n")
    if report["olid"]:
        olid = report["olid"]
        out(f"OLID held-out tweets: risk ROC-AUC {olid['risk_auc']:.3f}; not offensive, not "
            f"approved {_pct(olid['not_offensive_not_approved'])}; offensive kept out "
            f"{_pct(olid['offensive_kept_out'])}\n")
    identity = report["identity"]
    out(f"Identity templates ({identity['terms']} terms): benign not approved "
        f"{_pct(identity['benign_not_approved'])}, hateful kept out "
        f"{_pct(identity['hateful_kept_out'])}; worst subgroup "
        f"{identity['worst_subgroup_auc']:.3f}, BPSN {identity['worst_bpsn_auc']:.3f}, BNSP "
        f"{identity['worst_bnsp_auc']:.3f}\n")
    out(f"    {'term':<18} {'subgroup':>8} {'BPSN':>6} {'BNSP':>6} {'benign held back':>17}\n")
    for row in identity["per_term"]:
        out(f"    {row['term']:<18} {row['subgroup_auc']:>8.3f} {row['bpsn_auc']:>6.3f} "
            f"{row['bnsp_auc']:>6.3f} {_pct(row['benign_not_approved']):>17}\n")
