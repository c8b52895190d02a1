//! Parts shared by several pages: the endpoint catalog, the request editor, the inspector, the
//! token badge, demo mode, the staff menu, links and the browser clock.

pub mod catalog;
pub mod clock;
pub mod demo;
pub mod inspector;
pub mod link;
pub mod parity_badge;
pub mod request;
pub mod shortcuts;
pub mod staff;
pub mod theme;
pub mod token_badge;
