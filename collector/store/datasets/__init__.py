"""Evaluation datasets in the store: the catalog (create, read any version, search, tag,
link to experiments, delete), incoming records checked and merged, record merges and
deletes with their history, the digest, the bulk SQL per database, and the dataset filter
fields."""
