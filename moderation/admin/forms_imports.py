"""Admin form: a CSV or TSV of past decisions to import."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired

EXTENSIONS = ("csv", "tsv", "txt")


class ImportForm(FlaskForm):
    file = FileField(
        "CSV or TSV file (UTF-8)",
        validators=[
            FileRequired("Choose a file to import."),
            FileAllowed(EXTENSIONS, "Upload a .csv, .tsv or .txt file (saved as UTF-8 text)."),
        ],
    )
