# Worker image for Beam's portable runners (Flink, Spark, Dataflow): Beam's Python SDK
# harness with corpusforge and its dependencies. See docs/running-jobs.md.
#   docker build -t REGISTRY/corpusforge-worker:0.1.0 .
# The Beam version must match the one that submits the job (pyproject: apache-beam 2.x).
ARG BEAM_VERSION=2.77.0
FROM apache/beam_python3.11_sdk:${BEAM_VERSION}

# torch is a dependency of the package (trainer, model generators); pin the build you want
# first, e.g. a CPU-only wheel for CPU workers, so pip does not pick a large CUDA build.
ARG TORCH_SPEC="torch==2.13.0"
RUN pip install --no-cache-dir "${TORCH_SPEC}"

WORKDIR /opt/corpusforge
COPY pyproject.toml README.md beam_runner.py ./
COPY pipeline ./pipeline
COPY corpora ./corpora
COPY tokenizer ./tokenizer
COPY trainer ./trainer
COPY recipes ./recipes
RUN pip install --no-cache-dir . \
    && python -c "import pipeline, corpora, tokenizer, trainer, beam_runner"

# Beam's SDK image starts the harness; keep its entry point.
ENTRYPOINT ["/opt/apache/beam/boot"]
