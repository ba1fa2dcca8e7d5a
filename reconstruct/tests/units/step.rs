//! Tests of `reconstruct::step` (src/step.rs).
use capture::CancelToken;
use reconstruct::step::*;

#[test]
fn reports_are_clamped_and_cancel_is_an_error() {
    let cancel = CancelToken::new();
    let mut seen = Vec::new();
    {
        let mut sink = |f: f32| seen.push(f);
        let mut ctx = StepCtx::new(None, &mut sink, &cancel);
        ctx.report(0.5);
        ctx.report(7.0);
        assert!(ctx.check().is_ok());
        cancel.cancel();
        assert!(matches!(
            ctx.check(),
            Err(reconstruct::error::ReconstructError::Cancelled)
        ));
    }
    assert_eq!(seen, vec![0.5, 1.0]);
    assert!(StepCtx::detached(None, |c| c.check().is_ok()));
}
