# The API image: the serve dependencies only (ONNX Runtime, tokenizers, FastAPI, SQLAlchemy,
# Redis, Prometheus). No torch, no training/: a bundle carries its tokenizer and ONNX exports.
FROM python:3.11-slim
WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY service service
COPY models models
COPY rules rules
COPY cli cli
COPY migrations migrations
RUN pip install .
EXPOSE 8000
# Prestart: wait for the database and migrate (inside `autoreply serve`), then serve.
CMD ["autoreply", "serve", "--host", "0.0.0.0", "--port", "8000"]
