//! Placeholder so the wasm32 build of this branch links; the lead's binding module in
//! `main` replaces this file at merge.
