"""Run a screen under ``spark-submit`` on a Spark cluster (or Databricks job).

    spark-submit --master yarn --py-files contraxis.zip \\
        "$(python -c 'import contraxis.screening.submit as m; print(m.__file__)')" \\
        --database omop --out /dbfs/screens/worklist.csv

Reads the OMOP tables of a catalog database (``--database``) or a folder of Parquet or CSV
files (``--input``), runs the screens with the session ``spark-submit`` made, and writes the
worklist (CSV, Parquet), its figures (JSON) and the HTML report on the driver. Every executor
needs Contraxis and pyarrow installed (the same version as the driver).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the screens on the current Spark session, write the outputs."""
    parser = argparse.ArgumentParser(prog="contraxis-screen-submit", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--database", help="catalog database holding the OMOP CDM tables")
    source.add_argument("--input", help="folder of OMOP Parquet or CSV tables, or a FHIR Bulk export")
    parser.add_argument("--out", required=True, help="worklist CSV to write (Parquet, JSON and HTML beside it)")
    parser.add_argument("--screen", action="append", help="screen id to run (repeat; all by default)")
    parser.add_argument("--lookback-days", type=int, help="look-back for every screen")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, help="screen date (YYYY-MM-DD)")
    parser.add_argument("--partitions", type=int, default=200, help="partitions of the candidates' records")
    args = parser.parse_args(argv)

    from ..errors import ContraxisError
    from . import run_screen, write_outputs

    try:
        result = run_screen(args.input or "", engine="spark", screens=args.screen, as_of=args.as_of,
                            lookback_days=args.lookback_days, master=None, database=args.database,
                            partitions=args.partitions)
    except ContraxisError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    write_outputs(result, args.out)
    print(json.dumps(result.summary(), indent=2))
    return 0


if __name__ == "__main__":  # pragma: no cover - run by spark-submit
    sys.exit(main())
