"""Prevention work beside the cases: the publicity log (宣传工作登记) and APP registration targets."""
