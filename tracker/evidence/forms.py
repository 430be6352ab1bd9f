from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, StringField
from wtforms.validators import Length, Optional


class EvidenceForm(FlaskForm):
    title = StringField("Title", validators=[Optional(), Length(max=200)],
                        description="For example, Carers Centre contract variation, signed")
    file = FileField("File", validators=[Optional()],
                     description="A PDF, Word (.docx), Excel (.xlsx) or PowerPoint (.pptx) file, or a PNG or JPEG "
                                 "image")
    url = StringField("Or a link", validators=[Optional(), Length(max=2000)],
                      description="A web address starting https://")
    replaces = HiddenField()
