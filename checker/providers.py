"""The providers golive ships a rule pack for (rules/<name>.yaml, each with an example integration for `golive demo`), in
the order the command line lists them. A module of its own so that the command line's help names them without loading
the packs."""

BUILTIN_PACKS = ("mintfax", "idunox", "flexforward", "square", "checkout", "adyen", "stripe", "gocardless", "lob")
