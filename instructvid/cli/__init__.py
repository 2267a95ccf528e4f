"""Command-line interface (typer): thin, parses, calls the library, prints."""
