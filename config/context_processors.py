from django.conf import settings


def recourse(request):
    return {"QUICK_EXIT_URL": settings.QUICK_EXIT_URL}
