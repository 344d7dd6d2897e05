"""Entry point: `flask --app app …` and `gunicorn app:app` find the application here."""
from dissuasion import create_app

app = create_app()
