//! The Jaeger stand-in on its own, and the compose stack end to end (the
//! latter only through `tests/e2e/run.sh`, which builds and starts the stack).

mod http;
mod replicas;
mod scale;
mod stack;
mod standin;
