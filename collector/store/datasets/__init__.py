"""Evaluation datasets in the store: the catalog (create, read any version, search, tag,
delete), record merges and deletes with their history, the digest, the bulk SQL per
database, and the dataset filter fields."""
