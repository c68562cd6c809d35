# kb's production image: gunicorn serving Django, whitenoise serving static files.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    KB_DATA_DIR=/data

WORKDIR /app
# The media volume is created from this folder, so it starts out owned by kb.
RUN useradd --create-home --uid 1000 kb && mkdir -p /data/media && chown -R kb /data

COPY pyproject.toml README.md ./
RUN pip install --upgrade pip && pip install .
COPY . .
# Static files are collected at build time; the key is a throwaway used only for this step.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput

USER kb
EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn -c kb/gunicorn_conf.py kb.wsgi:application"]
