"""The redaction corpora: `secrets.SHAPES` (fake, format-valid credentials in the places they
show up) and `benign.LINES` (ordinary code and prose that must stay readable)."""
