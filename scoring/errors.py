"""The one error type the core raises for bad input: its message is a Vietnamese sentence for users."""


class InputError(Exception):
    """Input a person supplied cannot be used. `str(err)` is shown to users as is (Vietnamese, names the file/row/field)."""


class ConflictError(InputError):
    """Someone else saved the same thing after this person loaded it: nothing was overwritten."""


class NotFoundError(InputError):
    """What was asked for does not exist (any more)."""


STALE_WRITE_MESSAGE = (
    "Dữ liệu vừa được người khác sửa sau khi bạn mở trang. Thay đổi của bạn chưa được lưu: "
    "hãy tải lại để xem bản mới nhất rồi sửa lại."
)
