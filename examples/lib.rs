//! Example programs of shakedown's library API live beside this file as `[[example]]` targets.
