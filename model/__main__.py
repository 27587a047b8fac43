"""Command line of the model stage.

    python -m model train --variant raw|nobg --data <dataset folder, manifest.csv or dataset name> [--run NAME] ...
    python -m model evaluate --run NAME [--split test|val|all]
    python -m model predict photo.jpg [more.jpg ...] --run NAME [--overlay out.png --opacity 0.5 --colormap jet]
    python -m model summary [--image-size 224 --classes 6]
    python -m model ensemble --raw demo-raw --nobg demo-nobg [--name demo-ensemble] [--learn-weight]
    python -m model baseline --data demo [--variant raw|nobg]
    python -m model compare --data demo [--data demo-collection] --seeds 3 [--architectures thesis,baseline]

A user error prints one `error: ...` line and exits 1; Ctrl-C during training exits 130 and the
same command resumes from the last completed epoch. `predict` prints the results of the photos it can
read and one `error: ...` line per photo it cannot, then exits 1 if there was any.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from core.cli import add_settings_options, settings_from_options
from core.config import ARCHITECTURES, Settings, get_settings
from core.evidence import accuracy_text
from core.logs import configure


class UsageError(ValueError):
    """A combination of arguments argparse cannot reject by itself."""


def _parser(defaults: Settings) -> argparse.ArgumentParser:
    """The options of `train` are generated from `ModelSettings` (core.cli): a new setting is one field there."""
    d = defaults.model
    parser = argparse.ArgumentParser(prog="python -m model", description="Train, evaluate and apply the brand model.")
    parser.add_argument("--workspace", help="workspace folder (default: $RUNWAY_LENS_WORKSPACE or ./workspace)")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train (or resume) a run")
    train.add_argument("--variant", required=True, choices=("raw", "nobg"), help="photos with or without background")
    train.add_argument("--data", required=True, help="dataset folder, its manifest.csv, or a dataset name")
    train.add_argument("--run", help="run name (default: <dataset>-<variant>)")
    add_settings_options(train, defaults.model)
    train.add_argument("--weights", choices=("imagenet", "random"), default="imagenet",
                       help="VGG16 weights: the provisioned ImageNet file, or random (tests and timing only)")
    train.add_argument("--restart", action="store_true", help="discard an existing run folder and start over")
    train.add_argument("--quiet", action="store_true", help="no progress output")
    add_settings_options(train, defaults.engine)

    evaluate = commands.add_parser("evaluate", help="write a run's evaluation artifacts")
    evaluate.add_argument("--run", required=True, help="run name or run folder")
    evaluate.add_argument("--split", default="test", choices=("test", "val", "train", "all"), help="rows to evaluate")
    evaluate.add_argument("--data", help="another dataset to evaluate on (default: the run's own manifest)")
    evaluate.add_argument("--batch-size", type=int, default=d.eval_batch_size)
    evaluate.add_argument("--quiet", action="store_true", help="no progress output")

    predict = commands.add_parser("predict", help="brand probabilities (and attention overlay) for photos")
    predict.add_argument("photos", nargs="+", help="photo file(s)")
    predict.add_argument("--run", required=True, help="run name or run folder")
    predict.add_argument("--overlay", help="write the attention overlay PNG here (one photo only)")
    predict.add_argument("--opacity", type=float, default=0.5, help="overlay opacity 0..1 (default 0.5)")
    predict.add_argument("--colormap", default="jet", help="OpenCV colormap: jet, inferno, viridis, magma, turbo, hot")
    predict.add_argument("--json", action="store_true", help="print JSON instead of a table")

    summary = commands.add_parser("summary", help="build the network and print its layers and parameter counts")
    summary.add_argument("--image-size", type=int, default=d.image_size)
    summary.add_argument("--classes", type=int, default=d.num_classes)
    summary.add_argument("--architecture", choices=ARCHITECTURES, default=d.architecture)

    baseline = commands.add_parser("baseline", help="frozen VGG16 + average pooling + logistic regression -> a run folder")
    baseline.add_argument("--data", required=True, help="dataset folder, its manifest.csv, or a dataset name")
    baseline.add_argument("--variant", choices=("raw", "nobg"), default="raw", help="photos with or without background")
    baseline.add_argument("--run", help="run name (default: <dataset>-<variant>-baseline)")
    baseline.add_argument("--image-size", type=int, default=None, help=f"input side in px (default: {d.image_size})")
    baseline.add_argument("--preprocess", choices=("thesis", "vgg"), default=None,
                          help=f"pixel scaling, as the model it is compared with (default: {d.preprocess})")
    baseline.add_argument("--seed", type=int, default=None, help=f"random seed (default: {d.seed})")
    add_settings_options(baseline, defaults.engine)

    compare = commands.add_parser("compare", help="several seeds of several architectures: mean accuracy and 95%% CI")
    compare.add_argument("--data", required=True, action="append",
                         help="dataset (repeat for another split of the same houses, e.g. its by-collection twin)")
    compare.add_argument("--seeds", type=int, default=3, help="seeds per architecture (default: 3)")
    compare.add_argument("--architectures", default=None,
                         help="comma-separated, from the architectures and 'baseline' (default: all of them)")
    compare.add_argument("--variants", default="raw,nobg", help="comma-separated (default: raw,nobg)")
    compare.add_argument("--name", help="comparison name (default: the datasets' names)")
    compare.add_argument("--weights", choices=("imagenet", "random"), default="imagenet",
                         help="VGG16 weights: the provisioned ImageNet file, or random (tests and timing only)")
    add_settings_options(compare, defaults.model)
    add_settings_options(compare, defaults.engine)

    ens = commands.add_parser("ensemble", help="average a raw and a nobg run's probabilities -> a new run folder")
    ens.add_argument("--raw", required=True, help="the with-background run")
    ens.add_argument("--nobg", required=True, help="the background-removed run")
    ens.add_argument("--name", help="the ensemble run's name (default: <prefix>-ensemble)")
    ens.add_argument("--learn-weight", action="store_true", help="learn w on the validation split (val_predictions.csv)")
    return parser


def _on_engine(args, settings: Settings) -> Settings:
    """The settings with the engine options given (feature caching runs there)."""
    return settings.replace(engine=settings_from_options(args, settings.engine))


def _train(args, settings) -> int:
    from model.training import TrainRequest, train

    settings = _on_engine(args, settings.replace(model=settings_from_options(args, settings.model)))
    request = TrainRequest(variant=args.variant, data=args.data, run=args.run, weights=args.weights, restart=args.restart)
    result = train(request, settings)
    print(f"run {result.run.name}: {result.epochs_done} epochs in {result.run.root}")
    return 0


def _evaluate(args, settings) -> int:
    from model.evaluation import evaluate

    evaluate(args.run, settings, split=args.split, data=args.data, batch_size=args.batch_size)
    return 0


def _load_photos(paths: list[str], max_pixels: int) -> tuple[dict, list[str]]:
    """Decode every photo, collecting a message per bad one, so one bad file does not hide the others' results."""
    from core.images import ImageError, load_rgb

    images, problems = {}, []
    for path in paths:
        try:
            images[path] = load_rgb(path, max_pixels=max_pixels)
        except ImageError as exc:
            problems.append(str(exc))
    return images, problems


def _print_results(photos: list[str], results, class_names: list[str], as_json: bool) -> None:
    if as_json:
        print(json.dumps([{"photo": photo, "predicted": r.predicted, "probabilities": r.probabilities,
                           **r.attention_stats} for photo, r in zip(photos, results, strict=True)], indent=2))
        return
    width = max(len(name) for name in class_names)
    for photo, result in zip(photos, results, strict=True):
        print(f"{photo}: {result.predicted} ({result.probabilities[result.predicted]:.3f})")
        for brand, probability in result.ranked():
            print(f"  {brand:<{width}}  {probability:.4f}")


def _trained_run(name: str, settings):
    """The run folder, checked before any photo is read: a wrong --run is one line, and costs no TensorFlow import."""
    from core.contract import resolve_run

    run = resolve_run(name, settings)
    run.read_config()
    run.require(run.model, f"python -m model train --run {run.name} ...")
    return run


def _predict(args, settings) -> int:
    from core.fileio import atomic_path
    from model.maps import COLORMAPS

    if args.overlay and len(args.photos) > 1:
        raise UsageError("--overlay takes one photo at a time")
    if args.colormap not in COLORMAPS:
        raise UsageError(f"unknown colormap {args.colormap!r}; expected one of {', '.join(COLORMAPS)}")
    if not 0.0 <= args.opacity <= 1.0:
        raise UsageError(f"--opacity must be between 0 and 1, got {args.opacity}")
    run = _trained_run(args.run, settings)
    images, problems = _load_photos(args.photos, settings.upload.max_pixels)
    if images:
        from model.predict import load_analyser  # TensorFlow: imported only when there is a photo to analyse

        analyser = load_analyser(run, settings)
        photos = list(images)
        results = analyser.analyse_batch([images[photo] for photo in photos])
        _print_results(photos, results, analyser.class_names, args.json)
        if args.overlay:
            picture = analyser.overlay(images[photos[0]], results[0], opacity=args.opacity, colormap=args.colormap)
            with atomic_path(args.overlay) as tmp:
                picture.save(tmp, format="PNG")
            print(f"overlay written to {args.overlay}")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    # the good photos' results are printed; the exit status still tells a script that some photos failed
    return 1 if problems else 0


def _summary(args, settings) -> int:
    from model.network import build_model, parameter_counts

    model = build_model(args.classes, args.image_size, weights=None, settings=settings, architecture=args.architecture)
    model.summary(line_length=110)
    counts = parameter_counts(model)
    print(f"total {counts['total']:,}  trainable {counts['trainable']:,}  non-trainable {counts['non_trainable']:,}")
    return 0


def _baseline(args, settings) -> int:
    import dataclasses

    from model.baseline import train_baseline

    chosen = {k: v for k, v in (("image_size", args.image_size), ("preprocess", args.preprocess), ("seed", args.seed))
              if v is not None}
    settings = _on_engine(args, settings.replace(model=dataclasses.replace(settings.model, **chosen)))
    metrics = train_baseline(args.data, args.variant, args.run, settings)
    print(f"baseline: accuracy {accuracy_text(metrics['accuracy'], metrics['n_images'])}, "
          f"top-2 {accuracy_text(metrics['top2_accuracy'], metrics['n_images'])} (95% intervals) "
          f"on {metrics['n_images']} test photos")
    if metrics.get("test_set_warning"):
        print(f"warning: {metrics['test_set_warning']}", file=sys.stderr)
    return 0


def _compare(args, settings) -> int:
    from model.baseline import ARCHITECTURE as BASELINE
    from model.compare import compare
    from model.network import ARCHITECTURES

    settings = _on_engine(args, settings.replace(model=settings_from_options(args, settings.model)))
    architectures = args.architectures.split(",") if args.architectures else [*ARCHITECTURES, BASELINE]
    table = compare(args.data, [a.strip() for a in architectures if a.strip()], args.seeds, settings,
                    variants=tuple(v.strip() for v in args.variants.split(",") if v.strip()), name=args.name,
                    weights=args.weights)
    shown = table.assign(interval=[f"[{lo:.3f}, {hi:.3f}]" for lo, hi in zip(table["ci_low"], table["ci_high"],
                                                                              strict=True)])
    print(shown[["dataset", "variant", "architecture", "mean_accuracy", "interval", "accuracies"]]
          .to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


def _ensemble(args, settings) -> int:
    from model.ensemble import make_ensemble, summary_lines

    ensemble = make_ensemble(args.raw, args.nobg, settings, name=args.name, learn_weight=args.learn_weight)
    print("\n".join(summary_lines(ensemble)))
    return 0


COMMANDS = {"train": _train, "evaluate": _evaluate, "predict": _predict, "summary": _summary, "ensemble": _ensemble,
            "baseline": _baseline, "compare": _compare}


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = _parser(get_settings()).parse_args(argv)
    configure(quiet=getattr(args, "quiet", False))
    from core.contract import ContractError
    from core.engine import EngineError
    from core.images import ImageError
    from model.assets import AssetError
    from model.training import TrainError

    settings = get_settings(args.workspace)
    user_errors = (ContractError, TrainError, AssetError, ImageError, UsageError, FileNotFoundError, EngineError)
    try:
        return COMMANDS[args.command](args, settings)
    except KeyboardInterrupt:
        print("\ninterrupted: rerun the same command to resume from the last completed epoch", file=sys.stderr)
        return 130
    except user_errors as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
