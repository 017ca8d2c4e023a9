"""Send one postcard with the official `lob-python` package — the way it often goes wrong (do not copy).

- No idempotency key: the package sends `Idempotency-Key` only when asked (api/postcards_api.py:90-96), so a retry
  after a lost answer is a second postcard as far as Lob can tell — printed and mailed twice.
- A loop of its own that retries every ApiException, a refused request (4xx) too, after a fixed second.
- Connection errors are not caught (the package does not resend a POST after a reset), so a reset ends the run.
- No timeout: the package waits as long as the socket does.
- The error printed says nothing of Lob's error code.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from lob_python.api.postcards_api import PostcardsApi
from lob_python.api_client import ApiClient
from lob_python.configuration import Configuration
from lob_python.exceptions import ApiException
from lob_python.model.metadata_model import MetadataModel
from lob_python.model.postcard_editable import PostcardEditable
from lob_python.model.psc_use_type import PscUseType


def main() -> int:
    parser = argparse.ArgumentParser(description="Send one postcard.")
    parser.add_argument("--to", required=True)
    parser.add_argument("--ref", required=True)
    args = parser.parse_args()
    api = PostcardsApi(ApiClient(Configuration(host=os.environ["LOB_BASE_URL"], username=os.environ["LOB_API_KEY"])))
    postcard = PostcardEditable(
        to=args.to,
        front="tmpl_golivefront",
        back="tmpl_goliveback",
        use_type=PscUseType("operational"),
        description=args.ref,
        metadata=MetadataModel(order=args.ref),
    )
    for _ in range(3):
        try:
            created = api.create(postcard)  # no idempotency_key
        except ApiException:
            time.sleep(1)
            continue
        print(created.id)
        return 0
    print("postcard failed", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
