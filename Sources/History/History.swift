// The history explorer (issue 6): events and technologies read from lessons/history/.
import ContlabCore

public enum HistoryModule {}
