"""The tiny English-Spanish corpus that the CLI, run-directory, signal and checkpoint tests
train on (a few seconds per run), written once."""

PAIRS = [("Hello world.", "Hola mundo."), ("Good night.", "Buenas noches."),
         ("I eat bread.", "Yo como pan."), ("She eats bread.", "Ella come pan."),
         ("We eat fish.", "Nosotros comemos pescado."), ("The dog sleeps.", "El perro duerme."),
         ("The cat sleeps.", "El gato duerme."), ("Thank you.", "Gracias.")] * 8


def write_corpus(path, pairs=PAIRS):
    """``path`` as a TSV of english<TAB>spanish lines; returns it."""
    path.write_text("".join(f"{en}\t{es}\n" for en, es in pairs), encoding="utf-8")
    return path
