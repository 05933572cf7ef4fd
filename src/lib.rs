pub use tls;
