//! One integration-test binary (one link step): each module drives the real
//! server, started on an ephemeral port with a fresh database.

mod accounts;
mod adopt;
mod api;
mod auth;
mod aws;
mod binary;
mod browser;
mod builds;
mod cli;
mod console;
mod drift;
mod drills;
mod export;
mod generations;
mod guard;
mod helpers;
mod i18n;
mod openapi;
mod ops;
mod pages;
mod postgres;
mod practice;
mod replicas;
mod restart;
mod sfos;
mod utm;
